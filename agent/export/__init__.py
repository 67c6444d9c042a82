"""`sla-agent export`: the 绩效 indicator table (table 12) with measured and reported figures.

model.py builds the report (pure) from the layout (table12.yaml), the KPI
engine's results (measure.py) and the staff's manual values (manual.py); one
writer per format (xlsx.py, csv_writer.py, json_writer.py, html.py + svg.py);
command.py is the CLI glue.
"""
