"""Engines: what runs a migration's units of work (copy a part, compare a segment).

``embedded`` runs them on threads of this process (the default); ``spark`` runs each
as a Spark task. Both take the same ``Work`` and report each result as it finishes.
"""
