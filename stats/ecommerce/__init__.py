"""Matomo ecommerce reads (issue #15): orders, products, categories, abandoned carts."""
