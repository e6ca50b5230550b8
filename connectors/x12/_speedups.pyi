from connectors.x12.model import Segment

def split(
    text: str, base: int, term: str, sep: str, seq: int, segment_type: type[Segment], /
) -> tuple[list[Segment], list[str], list[int]] | None: ...
