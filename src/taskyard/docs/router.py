from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

DOCS_PATH = "/api-docs"
OPENAPI_PATH = "/api-docs.json"

# Swagger UI's own build, from the installed fastapi-offline distribution.
_SWAGGER_DIR = Path(str(resources.files("fastapi_offline") / "static"))
_OUR_DIR = Path(__file__).resolve().parent
ASSETS = {
    "swagger-ui-bundle.js": _SWAGGER_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": _SWAGGER_DIR / "swagger-ui.css",
    "favicon.png": _SWAGGER_DIR / "favicon.png",
    "swagger-init.js": _OUR_DIR / "swagger-init.js",
}
ASSET_CACHE_CONTROL = "public, max-age=86400"

router = APIRouter(include_in_schema=False)

# FastAPI documents a 422 {detail: [...]} on every operation with parameters; this API answers
# validation failures with a 400 in its own envelope, documented on each operation instead.
_FRAMEWORK_ONLY_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document_real_errors(app: FastAPI) -> None:
    """Make the OpenAPI document describe only the responses the API really sends."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            described = [
                *document.get("paths", {}).values(),
                *document.get("webhooks", {}).values(),
            ]
            for operations in described:
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    # FastAPI's own validation 422 (the API answers 400); a documented one stays.
                    if responses.get("422", {}).get("description") == "Validation Error":
                        del responses["422"]
                    # A stream answers as a stream only (FastAPI files a model under JSON).
                    content = responses.get("200", {}).get("content", {})
                    if "text/event-stream" in content and "application/json" in content:
                        content["text/event-stream"] = content.pop("application/json")
            schemas = document.get("components", {}).get("schemas", {})
            for name in _FRAMEWORK_ONLY_SCHEMAS:
                schemas.pop(name, None)
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" type="image/png" href="{base}/favicon.png">
  <link rel="stylesheet" href="{base}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi}"></div>
  <script src="{base}/swagger-ui-bundle.js"></script>
  <script src="{base}/swagger-init.js"></script>
</body>
</html>
"""


@router.get(DOCS_PATH)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    page = _PAGE.format(
        title=html.escape(f"{request.app.title} - API docs"),
        base=html.escape(f"{root}{DOCS_PATH}"),
        openapi=html.escape(f"{root}{OPENAPI_PATH}"),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get(DOCS_PATH + "/{asset}")
async def swagger_asset(asset: str) -> FileResponse:
    path = ASSETS.get(asset)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": ASSET_CACHE_CONTROL})
