"""The integrator's kit: strategies, the store contract and the store state machine.

Public API.  Importing this package needs pytest and hypothesis
(``pip install "keepword[testing]"``).
"""
