# Rules for the container integration suite.
