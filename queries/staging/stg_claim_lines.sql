-- Claim lines with the rendering provider resolved to a roster clinician:
-- by NPI first, then by name.
with source as (
    select * from raw_claim_lines
),
providers as (
    select distinct rendering_provider, rendering_npi, clean_npi(rendering_npi) as npi from source
),
resolved as (
    select p.rendering_provider, p.rendering_npi, p.npi,
        coalesce(by_npi.clinician, by_name.clinician) as clinician
    from providers p
    left join stg_clinicians by_npi on by_npi.npi = p.npi
    left join stg_clinician_names by_name on by_name.name_key = name_key(p.rendering_provider)
),
renamed as (
    select
        l.line_id,
        l.client_key,
        l.service_date,
        coalesce(r.clinician, trim(l.rendering_provider)) as clinician,
        r.clinician is not null                     as clinician_resolved,
        r.npi                                       as rendering_npi,
        l.referring_provider,
        clean_npi(l.referring_npi)                  as referring_npi,
        nullif(trim(l.payer), '')                   as payer,
        l.cpt,
        coalesce(l.charge, 0)::DECIMAL(12, 2)       as charge,
        coalesce(l.paid, 0)::DECIMAL(12, 2)         as paid
    from source l
    left join resolved r
        on coalesce(r.rendering_provider, '') = coalesce(l.rendering_provider, '')
       and coalesce(r.rendering_npi, '') = coalesce(l.rendering_npi, '')
)
select * from renamed
