"""One module per client family, each owning its request models (with its original's defaults),
its response models, the one converter `Document -> response` and its error body.

Routes (api/routes_*.py) are thin adapters over these, each router bound to its module's `CONTRACT`
(which picks the error body); the service and engine know nothing of them.
"""
