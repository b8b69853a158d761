"""Store implementations: ``MemoryStore`` (the reference) and ``SqlStore`` (databases).

Import them from :mod:`keepword` or from their own modules
(``keepword.stores.memory``, ``keepword.stores.sql``); this package imports nothing.
"""
