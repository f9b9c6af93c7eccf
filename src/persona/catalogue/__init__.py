"""People's objects in the database: the library's catalogue (models, covers, trainings: owner,
name, size), per-person usage and limits, erasing and exporting a person's data. Files stay on
disk under the owner's folder; ``persona.library`` writes them and keeps these rows in step."""
