"""Services lent to static methods: split features, cached warm-up runs and their training, and the cache
of budget-independent selection results, composed by the selection context (``context``)."""
