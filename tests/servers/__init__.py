"""Tests against local servers (DynamoDB Local, moto's S3, the fakes), not through the CLI."""
