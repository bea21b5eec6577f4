"""Settings of the gunicorn server that the database fault test starts: the project's own,
with DEBUG off as in production, so that an error page shows what a user would see."""

from laborlink.settings import *  # noqa: F403

DEBUG = False
