"""`dibs import accounts|opportunities FILE`: the CSV side of the CRM import.

`files` streams a CSV file, `headers` maps its columns to fields (ours, Salesforce's,
HubSpot's, `--map`), `values` reads a spreadsheet's spellings of flags, dates, amounts,
countries and owners, `rows` turns a row into a record or a row error, `pool` reads and keys
chunks of rows on every core, `source` offers them to the import use case
(`domain.services.crm`), and `cli` is the command. Nothing here is imported at package
import: the worker processes load only what they use.
"""
