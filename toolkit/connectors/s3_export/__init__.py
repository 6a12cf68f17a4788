"""A DynamoDB export in S3 as a source (data files) or a target (a table written as one)."""
