"""What several test modules share: constructed contexts, data files, run records and run helpers.

Test modules import from here (and from ``tests.mutation.registry``), never from one another, so any test
file can move or go without breaking another."""
