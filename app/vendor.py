"""/vendor: the few files of the pinned browser libraries (package.json) that the pages load.

Only the files listed here are served, not the libraries' whole npm folders (their READMEs,
package.json files, source maps and unused builds would only widen what the server exposes).
tests/app/test_vendor.py checks that this list is exactly what templates/, static/ and the /docs
page reference.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# Paths under node_modules/, as the pages write them after /vendor/.
VENDOR_FILES = frozenset({
    "svg-pan-zoom/dist/svg-pan-zoom.min.js",  # the playground: pan and zoom of large graphs
    "uplot/dist/uPlot.esm.js",  # the lessons' plots
    "uplot/dist/uPlot.min.css",
    "swagger-ui-dist/swagger-ui-bundle.js",  # /docs
    "swagger-ui-dist/swagger-ui.css",
})


class VendorFiles(StaticFiles):
    """StaticFiles (ETag, 304, content types) limited to the VENDOR_FILES allow-list."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in VENDOR_FILES:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)
