"""Make, rotate or list the Ed25519 keys that sign Open Badges credentials (docs/CREDENTIALS.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from certificates.services.credentials import key_store, site_did


class Command(BaseCommand):
    help = "make | rotate | list the credential signing keys (files under CREDENTIAL_KEYS_DIR)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["make", "rotate", "list"])

    def handle(self, *args, action: str, **options) -> None:
        store = key_store()
        if action == "make":
            try:
                key_id = store.make()
            except FileExistsError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Made key {key_id} in {store.directory}")
        elif action == "rotate":
            key_id = store.rotate()
            self.stdout.write(
                f"Key {key_id} now signs; earlier public keys stay published, their private keys were deleted"
            )
        keys = store.published()
        if not keys:
            raise CommandError(f"no keys in {store.directory}: run credential_keys make")
        self.stdout.write(f"Published at {site_did()} (/.well-known/did.json) and per organisation:")
        for key in keys:
            role = "signs" if key.current else "published only"
            self.stdout.write(f"  {key.id}  {key.public_key_multibase}  {role}")
