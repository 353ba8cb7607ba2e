# Rules for pam_module.
