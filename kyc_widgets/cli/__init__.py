"""Entry points: the ``kyc-widgets`` command (:mod:`.main`), its ``batch`` command
(:mod:`.batch`) and the app launcher behind ``make demo`` (:mod:`.app`).

Kept light: ``kyc-widgets --help`` must not load the notebook stack.
"""
