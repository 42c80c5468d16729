"""MLX-compatible lu_factor / lu (being written)."""
