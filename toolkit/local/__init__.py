"""DynamoDB Local as two local servers (source and target) for tests and the demo."""
