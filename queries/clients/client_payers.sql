-- client_payers: the payers on each client's claim lines, with the rendering provider
-- as exported; introductions reads who paid for whom. No counts, so a night that adds
-- lines of known combinations leaves it unchanged. Maintained incrementally like
-- client_appointments.
select distinct client_key, rendering_provider as provider, rendering_npi as provider_npi, nullif(trim(payer), '') as payer
from scope_claim_lines
where nullif(trim(payer), '') is not null
