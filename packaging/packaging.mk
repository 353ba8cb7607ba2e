# Rules for packaging.
