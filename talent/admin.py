from django.contrib import admin

from talent.models import ProfileSkill, Skill, TalentProfile


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "slug")
    list_filter = ("category",)
    search_fields = ("name", "slug", "synonyms")


class ProfileSkillInline(admin.TabularInline):
    model = ProfileSkill
    extra = 0
    autocomplete_fields = ("skill",)


@admin.register(TalentProfile)
class TalentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "headline", "country", "hourly_rate", "currency", "visibility")
    list_filter = ("country", "visibility", "currency")
    search_fields = ("user__email", "user__full_name", "headline")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    inlines = (ProfileSkillInline,)
