//! AWS Organizations: the member accounts of the organization, with their OU and tags, read once
//! per run from the management (or delegated administrator) account.
