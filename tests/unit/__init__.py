"""Tests that need nothing but Python: pure logic, in-process objects, property tests."""
