"""The home page's tiles, by role: what needs you now.

Tiles are registered by the app that owns their data (``<app>/tiles.py`` with
``portal.registry.register_tile``); this module only picks the tiles a person's audiences see
and renders them. A tile whose context raises an error breaks the page and its test: it never
quietly disappears (tests/portal/test_dashboard.py renders every registered tile for every
audience).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

from portal.registry import TILES, Tile

if TYPE_CHECKING:
    from portal.types import Viewer


def tiles_for(user: Viewer) -> list[Tile]:
    """The registered tiles the person sees, in the registry's order."""
    return [tile for tile in TILES if tile.visible_to(user)]


def tile_for(user: Viewer, slug: str) -> Tile | None:
    """The tile ``slug`` if the person sees it (None: no such tile, or not theirs)."""
    tile = TILES.get(slug)
    return tile if tile is not None and tile.visible_to(user) else None


def rendered_tiles(request: HttpRequest) -> list[tuple[Tile, str]]:
    return [(tile, tile.render(request)) for tile in tiles_for(request.user)]
