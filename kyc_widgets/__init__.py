"""kyc-widgets."""
