"""The wire and its clients: signed HTTP (the data plane, its Scan loop and its
BatchWriter), boto3 (the control plane), S3."""
