"""The wire and its clients: signed HTTP (data plane), boto3 (control plane), S3."""
