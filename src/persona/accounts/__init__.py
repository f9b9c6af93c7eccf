"""People and how they prove who they are: accounts, password hashes, sessions, access tokens.

Torch-free and Flask-free: the tables live in the job database (``persona.db``), so every
web process and the CLI see the same people, sessions and tokens (SQLite or PostgreSQL).
``persona.server.identity`` turns a request into a person; ``persona.cli.users`` manages them.

- ``tables``: the ``users``, ``sessions``, ``access_tokens`` and ``account_secrets`` tables (Alembic 0003).
- ``store.Accounts``: create, find, change, disable and delete people.
- ``passwords``: argon2id hashing and the password/name rules.
- ``credentials``: server-side sessions and personal access tokens (stored hashed).
- ``erase``: deleting a person, with the hook that erases their data.
"""
