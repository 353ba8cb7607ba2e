# Rules for enroll_cli.
