"""The service marketplace: shared instruments and their bookings, innovation vouchers."""
