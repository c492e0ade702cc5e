"""The report into a cheat sheet: arrangement, face rules, rendering, LaTeX, HTML. No SymPy here."""
