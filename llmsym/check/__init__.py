"""One link at a time: random points, tactics, the chain checker, forked workers, mutation.

Layer 2 of the pipeline (the derivation language is below it, ``verify`` above).
"""
