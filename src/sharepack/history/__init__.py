"""Recording what a run did: SCD2 versions of what a pack provisioned, rolled back or retired."""
