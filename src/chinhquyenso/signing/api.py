"""The signatures API: `POST /api/signatures/verify`."""

from ninja import Router

router = Router()
