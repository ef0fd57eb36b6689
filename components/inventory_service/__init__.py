"""The inventory-check service built on :mod:`orderflow`: its table, its worker's args and failure path, its program
wiring (:func:`components.inventory_service.service.inventory_service`)."""
