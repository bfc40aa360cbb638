"""A realistic demo portfolio, generated from a seed and loaded with COPY (`tactful demo`)."""
