//! Gatehouse's integration tests: one binary, so one private PostgreSQL serves the whole run.

mod support;

mod accounts;
mod admin;
mod adoption;
mod artworks;
mod better_auth;
mod binary;
mod client;
mod email_change;
mod hardening;
mod housekeeping;
mod instances;
mod invitations;
mod jwt;
mod live;
mod local_postgres;
mod migrations;
mod my_data;
mod outage;
mod pages;
mod passkeys;
mod providers;
mod random_client;
mod sessions;
mod tls;
mod two_factor;
mod webhooks;
