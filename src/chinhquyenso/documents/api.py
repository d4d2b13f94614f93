"""The documents API (văn bản đi, văn bản đến)."""

from ninja import Router

router = Router()
