"""The payment worker: authorizes an order's amount against its customer's credit (``payment.app``)."""
