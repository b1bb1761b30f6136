"""One fine-tuning run end to end: data, models, the loop, experiment grids and the CLI."""
