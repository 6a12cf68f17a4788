"""A table as a source or a target: DynamoDB and Alternator, told apart by capabilities."""
