-- client_claims: one row per client in billing, with what a referral needs from the
-- client's claim lines, names as exported. Maintained incrementally like
-- client_appointments; reads scope_claim_lines.
--
-- First rendering provider and first referring provider by date of service, then
-- line id; payer of the earliest line that has one; totals charged and paid.
with claims as (
    select
        client_key,
        service_date,
        strftime(service_date, '%Y%m%d') || line_id as ord,
        rendering_provider,
        rendering_npi,
        nullif(trim(referring_provider), '') as source_name,
        clean_npi(referring_npi) as source_npi,
        nullif(trim(payer), '') as payer,
        coalesce(charge, 0) as charge,
        coalesce(paid, 0) as paid
    from scope_claim_lines
    where client_key is not null and service_date is not null
)
select
    client_key,
    min(service_date) as first_service,
    arg_min(rendering_provider, ord) as first_provider,
    arg_min(rendering_npi, ord) as first_provider_npi,
    arg_min(source_name, ord) filter (where source_name is not null or source_npi is not null) as source_name,
    arg_min(source_npi, ord) filter (where source_name is not null or source_npi is not null) as source_npi,
    arg_min(payer, ord) filter (where payer is not null) as payer,
    sum(charge)::DECIMAL(12,2) as billed,
    sum(paid)::DECIMAL(12,2) as paid
from claims
group by client_key
