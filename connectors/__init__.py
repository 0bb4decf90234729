"""Delivery channels, and the kit a contact point runs on its own side.

Router side: `Channel` implementations hand a referral message to a contact
point (webhook). Contact point side: the receiver kit (`receiver_kit`, on
pika) and the webhook receiver (`webhook_receiver`) open what arrives and
write each referral once to a local `Inbox`.
"""
