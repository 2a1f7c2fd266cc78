"""The read side: queries that join tables of more than one owner, for listings and health.

A view only reads (SELECT). Every write goes through the module that owns the table (see
CONTRIBUTING.md for the owners).
"""
