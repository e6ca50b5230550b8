"""The canonical OMS store: model, migrations, bindings and the loader.

`oms` imports neither `connectors` nor `transforms` (DESIGN.md §2): it only knows
canonical rows.
"""
