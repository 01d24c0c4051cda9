"""The staff register: the people of an institution, their roles (tester, sampler,
signatory), what each is authorised for, and when they were employed."""
