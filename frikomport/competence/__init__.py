"""Competence records: a catalogue of competences, the courses that grant them, what each
person holds and until when, what units require, course certificates (kursbevis),
reminders before expiry and the region's demand."""
