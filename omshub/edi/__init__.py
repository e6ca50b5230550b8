"""EDI: trading partners, control numbers, acknowledgements (997/TA1) and document chains."""
