"""The columnar mapping path: a compiled mapping applied to a `pyarrow.Table` of records.

Every mapping runs here; each operation is vectorised (pyarrow.compute) for the value
types it knows and runs its per-record twin on the rows it cannot take (a value of an
unexpected shape, a failing cast whose message must match the per-record path word for
word). `CompiledMapping.columnar` says whether any part of a mapping is per value only.
"""
