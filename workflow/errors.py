"""Errors a user can fix. Entry points print their message without a traceback."""


class UserError(Exception):
    """A mistake in input (config, data, files) with a message that names the problem and the fix."""


class DatasetUnavailable(UserError):
    """A dataset could not be obtained (offline, missing files)."""


class CorruptFile(UserError):
    """A file exists but its checksum or structure is wrong."""
