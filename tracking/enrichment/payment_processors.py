"""Payment processors' domains: a visitor coming back from a checkout page hosted by one of
them (Stripe Checkout, PayPal, a 3-D Secure page…) is the same visit, not a new source.

``classify_referrer`` treats a referrer on these domains (or any subdomain) as no referrer,
so the session keeps its original acquisition: ``tracking.pipeline.acquire`` never lets a
direct-looking hit replace a known source, and a session that starts on the way back counts
as direct rather than as traffic "from Stripe" (docs/revenue.md). Data, kept as a list:
add a domain here, with the processor's name for readers.
"""

from __future__ import annotations

PAYMENT_PROCESSORS: dict[str, tuple[str, ...]] = {
    "Stripe": ("stripe.com", "stripe.network", "stripecdn.com"),
    "PayPal": ("paypal.com", "paypal.me", "paypalobjects.com", "venmo.com"),
    "Paddle": ("paddle.com", "paddle.net"),
    "Adyen": ("adyen.com", "adyenpayments.com"),
    "Mollie": ("mollie.com", "mollie.me"),
    "Braintree": ("braintreegateway.com", "braintreepayments.com", "braintree-api.com"),
    "Klarna": ("klarna.com", "klarna.net", "klarnacdn.net", "sofort.com"),
    "Checkout.com": ("checkout.com",),
    "Square": ("squareup.com", "square.link", "squareupsandbox.com", "cash.app"),
    "Lemon Squeezy": ("lemonsqueezy.com",),
    "2Checkout / Verifone": ("2checkout.com", "2co.com", "avangate.com", "verifone.cloud"),
    "FastSpring": ("fastspring.com", "onfastspring.com"),
    "Chargebee": ("chargebee.com",),
    "Recurly": ("recurly.com",),
    "GoCardless": ("gocardless.com",),
    "Authorize.net": ("authorize.net",),
    "Worldpay": ("worldpay.com",),
    "PayU": ("payu.com", "secure.payu.com"),
    "Razorpay": ("razorpay.com",),
    "Mercado Pago": ("mercadopago.com",),
    "Paystack": ("paystack.com", "paystack.co"),
    "Flutterwave": ("flutterwave.com",),
    "SumUp": ("sumup.com",),
    "Opayo": ("opayo.co.uk", "sagepay.com"),
    "Afterpay / Clearpay": ("afterpay.com", "clearpay.co.uk"),
    "Affirm": ("affirm.com",),
    "Trustly": ("trustly.com",),
    "Alipay": ("alipay.com",),
    "Amazon Pay": ("pay.amazon.com", "payments.amazon.com"),
    "Google Pay": ("pay.google.com",),
    "Shop Pay": ("shop.app", "shopifypay.com"),
    "3-D Secure (Cardinal)": ("cardinalcommerce.com",),
}

DOMAINS: frozenset[str] = frozenset(d for domains in PAYMENT_PROCESSORS.values() for d in domains)


def is_payment_processor(host: str) -> bool:
    """Whether ``host`` (lower case, no ``www.``) is a payment processor's or a subdomain."""
    labels = host.split(".")
    return any(".".join(labels[start:]) in DOMAINS for start in range(len(labels) - 1))
